"""Sign-in surface: login, logout, sign-up, password reset, email verification, guest links."""

"""Phone (CTI) calls and chat/social conversations coming in through the API."""

"""Admin pages for departments and people: CRUD through the pages, validation, sessions."""
# ruff: noqa: F811 - pytest fixtures imported from test_admin_support are parameters here

from __future__ import annotations

import sqlalchemy as sa

from .test_admin_support import (  # noqa: F401 - fixtures
    ac,
    admin,
    count,
    new_client,
    post,
    text,
)


def _dept(db, name):
    from helpdesk.accounts.models import Department

    return db.session.scalar(sa.select(Department).where(Department.name == name))


def _user(db, email):
    from helpdesk.accounts.models import User

    return db.session.scalar(sa.select(User).where(User.email == email))


# departments -----------------------------------------------------------------------------------


def test_overview_links_and_counts(ac, make_department, default_department):
    make_department("Ouvidoria", is_ombudsman=True)
    html = text(ac.get("/admin/"))
    for href in ("/admin/departments", "/admin/users", "/admin/categories", "/admin/rules"):
        assert f'href="{href}"' in html
    assert '<p class="stat">2</p>' in html  # two active departments


def test_create_department_with_members_shows_in_list(ac, db, make_user, default_department):
    agent = make_user(role="agent", name="Bruna Agent", password=None, departments=[])
    response = post(
        ac,
        "/admin/departments/new",
        {
            "name": "Cobrança",
            "description": "Faturas e boletos",
            "active": "y",
            "members": [str(agent.id)],
        },
    )
    assert response.status_code == 302
    html = text(ac.get("/admin/departments"))
    assert "Cobrança" in html and "Faturas e boletos" in html
    dept = _dept(db, "Cobrança")
    assert dept.active and [m.id for m in dept.members] == [agent.id]


def test_edit_department_and_make_it_the_default(ac, db, default_department, make_department):
    other = make_department("Retenção")
    response = post(
        ac,
        f"/admin/departments/{other.id}",
        {"name": "Retenção de clientes", "description": "", "is_default": "y", "active": "y"},
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert _dept(db, "Retenção de clientes").is_default
    assert not _dept(db, "SAC").is_default
    assert "Retenção de clientes" in text(ac.get("/admin/departments"))


def test_duplicate_department_name_is_a_field_error(ac, db, default_department):
    response = post(ac, "/admin/departments/new", {"name": "SAC", "active": "y"})
    assert response.status_code == 200
    assert "A department with this name already exists." in text(response)
    assert 'class="field  has-error"' in text(response)
    from helpdesk.accounts.models import Department

    assert count(db, Department) == 1


def test_default_department_cannot_be_deactivated(ac, db, default_department):
    response = post(
        ac,
        f"/admin/departments/{default_department.id}",
        {"name": "SAC", "is_default": "y"},  # active unticked
    )
    assert response.status_code == 200
    assert "Choose another default department first" in text(response)
    db.session.expire_all()
    assert _dept(db, "SAC").active and _dept(db, "SAC").is_default


def test_department_edit_form_is_prefilled(ac, make_user, default_department):
    agent = make_user(role="agent", name="Carla Agent", password=None)
    html = text(ac.get(f"/admin/departments/{default_department.id}"))
    assert 'value="SAC"' in html
    assert f'<option selected value="{agent.id}">' in html


def test_department_list_query_count_does_not_grow(ac, db, make_department, count_queries):
    make_department("A", is_default=True)
    ac.get("/admin/departments")
    db.session.expire_all()  # the test shares the requests' session: start cold each time
    with count_queries() as few:
        ac.get("/admin/departments")
    for i in range(10):
        make_department(f"More {i}")
    db.session.expire_all()
    with count_queries() as many:
        assert ac.get("/admin/departments").status_code == 200
    assert many.count == few.count


# people ----------------------------------------------------------------------------------------


def test_create_staff_user_with_password(ac, db, default_department):
    response = post(
        ac,
        "/admin/users/new",
        {
            "email": "Nova.Agente@Example.com",
            "name": "Nova Agente",
            "role": "agent",
            "departments": [str(default_department.id)],
            "password": "segredo123",
            "locale": "es",
        },
    )
    assert response.status_code == 302
    assert "nova.agente@example.com" in text(ac.get("/admin/users"))
    user = _user(db, "nova.agente@example.com")
    assert user.role == "agent" and user.locale == "es"
    assert user.department_ids == [default_department.id]
    assert user.check_password("segredo123")


def test_create_customer_with_password_link_emails_it(ac, db, sent_mail, default_department):
    response = post(
        ac,
        "/admin/users/new",
        {
            "email": "cliente@example.com",
            "name": "Cliente Novo",
            "role": "customer",
            "departments": [str(default_department.id)],  # ignored for customers
            "send_link": "y",
        },
    )
    assert response.status_code == 302
    user = _user(db, "cliente@example.com")
    assert user.role == "customer" and user.departments == [] and user.password_hash is None
    assert [m for m in sent_mail if "cliente@example.com" in str(m)]
    from helpdesk.accounts.services import customer_record_for

    assert customer_record_for(user) is not None


def test_create_user_needs_password_or_link(ac, db, default_department):
    from helpdesk.accounts.models import User

    before = count(db, User)
    response = post(
        ac, "/admin/users/new", {"email": "x@example.com", "name": "X", "role": "agent"}
    )
    assert response.status_code == 200
    assert "Give an initial password or choose to email a password link." in text(response)
    assert count(db, User) == before


def test_duplicate_email_is_a_field_error(ac, db, admin):
    response = post(
        ac,
        "/admin/users/new",
        {"email": admin.email, "name": "Again", "role": "agent", "password": "password123"},
    )
    assert response.status_code == 200
    assert "A user with this email already exists." in text(response)


def test_edit_user_role_departments_name_locale(ac, db, make_user, make_department):
    billing = make_department("Billing")
    user = make_user(role="agent", name="Old Name", password=None)
    response = post(
        ac,
        f"/admin/users/{user.id}",
        {
            "name": "New Name",
            "role": "supervisor",
            "departments": [str(billing.id)],
            "locale": "pt_BR",
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    user = _user(db, user.email)
    assert (user.name, user.role, user.locale) == ("New Name", "supervisor", "pt_BR")
    assert user.department_ids == [billing.id]
    assert "New Name" in text(ac.get("/admin/users"))


def test_admin_cannot_remove_own_admin_role_or_deactivate_self(ac, db, admin):
    response = post(ac, f"/admin/users/{admin.id}", {"name": "Ada", "role": "agent"})
    assert response.status_code == 200
    assert "You cannot remove your own administrator role." in text(response)
    response = post(ac, f"/admin/users/{admin.id}/deactivate", follow_redirects=True)
    assert "You cannot deactivate your own account." in text(response)
    db.session.expire_all()
    me = _user(db, admin.email)
    assert me.role == "admin" and me.active


def test_deactivating_a_user_ends_their_session(ac, db, new_client, make_user):
    other_admin = make_user(role="admin", password=None)
    theirs = new_client(other_admin)
    assert theirs.get("/admin/").status_code == 200
    response = post(ac, f"/admin/users/{other_admin.id}/deactivate", follow_redirects=True)
    assert "deactivated" in text(response)
    after = theirs.get("/admin/")
    assert after.status_code == 302 and "login" in after.headers["Location"]
    db.session.expire_all()
    assert not _user(db, other_admin.email).active
    assert "Deactivated" in text(ac.get("/admin/users"))
    post(ac, f"/admin/users/{other_admin.id}/reactivate")
    db.session.expire_all()
    assert _user(db, other_admin.email).active


def test_users_filter_by_role_and_prefix(ac, make_user):
    make_user(role="agent", name="Mariana Souza", email="mariana@example.com", password=None)
    make_user(role="agent", name="Pedro Lima", email="pedro@example.com", password=None)
    make_user(role="customer", name="Maria Cliente", email="mcliente@example.com", password=None)
    html = text(ac.get("/admin/users?role=agent&q=mar"))
    assert "Mariana Souza" in html
    assert "Pedro Lima" not in html and "Maria Cliente" not in html
    html = text(ac.get("/admin/users?q=PEDRO@"))
    assert "Pedro Lima" in html and "Mariana Souza" not in html
    html = text(ac.get("/admin/users?q=%25"))  # a literal %, not a wildcard
    assert "Nobody matches these filters." in html


def test_users_pages_with_next_cursor(ac, db, make_user, monkeypatch):
    from helpdesk.admin import users as users_module

    monkeypatch.setattr(users_module, "PAGE_SIZE", 2)
    for i in range(4):
        make_user(role="customer", name=f"Pessoa {i}", password=None)
    html = text(ac.get("/admin/users?role=customer"))
    assert "Pessoa 0" in html and "Pessoa 1" in html and "Pessoa 2" not in html
    import re

    next_url = re.search(r'href="([^"]*after=\d+[^"]*)" rel="next"', html).group(1)
    html = text(ac.get(next_url.replace("&amp;", "&")))
    assert "Pessoa 2" in html and "Pessoa 3" in html and "Pessoa 0" not in html


def test_user_list_query_count_does_not_grow(ac, db, make_user, default_department, count_queries):
    ac.get("/admin/users")
    db.session.expire_all()
    with count_queries() as few:
        ac.get("/admin/users")
    for _ in range(10):
        make_user(role="agent", password=None)
    db.session.expire_all()
    with count_queries() as many:
        assert ac.get("/admin/users").status_code == 200
    assert many.count == few.count


def test_pages_and_field_errors_follow_the_admins_language(new_client, db, make_user):
    pt_admin = make_user(role="admin", password=None, locale="pt_BR")
    client = new_client(pt_admin)
    post(client, "/admin/departments/new", {"name": "Vendas", "active": "y"})
    response = post(client, "/admin/departments/new", {"name": "Vendas", "active": "y"})
    assert "Já existe um departamento com este nome." in text(response)
    assert "Regras de encaminhamento" in text(client.get("/admin/"))

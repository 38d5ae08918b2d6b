"""Account pages: register, log in and out, forgotten and reset passwords, the profile."""

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request, Response
from pydantic import ValidationError

from boxoffice.accounts import service
from boxoffice.accounts.auth import web_session_token
from boxoffice.accounts.schemas import LoginRequest, PasswordResetRequest, RegisterRequest, UserUpdate
from boxoffice.core.deps import ClientInfo, SessionDep
from boxoffice.core.errors import DomainError
from boxoffice.core.ratelimit import Budget, rate_limit
from boxoffice.web.core import (
    WebRoute,
    clear_session_cookie,
    current_principal,
    redirect,
    render,
    require_user,
    safe_next,
    set_session_cookie,
    tokens_of,
    unit_of_work,
)

router = APIRouter(
    route_class=WebRoute, include_in_schema=False, dependencies=[Depends(rate_limit(Budget.DEFAULT))]
)

Field = Annotated[str, Form(max_length=5000)]

_FIELD_NAMES = {"email": "Email", "password": "Password", "full_name": "Name", "new_password": "New password"}


def field_errors(error: ValidationError) -> dict[str, str]:
    """A readable message per form field from a schema's validation errors."""
    messages: dict[str, str] = {}
    for item in error.errors():
        field = str(item["loc"][-1]) if item["loc"] else "form"
        label = _FIELD_NAMES.get(field, field.replace("_", " ").capitalize())
        text = str(item["msg"]).removeprefix("Value error, ")
        messages.setdefault(field, f"{label}: {text[0].lower() + text[1:] if text else 'invalid'}.")
    return messages


def _client(request: Request) -> ClientInfo:
    agent = request.headers.get("user-agent")
    return ClientInfo(
        ip=request.client.host if request.client else None,
        user_agent=agent[:255] if agent else None,
        request_id=str(request.scope.get("state", {}).get("request_id", "")),
    )


async def _log_in(request: Request, email: str, password: str) -> str:
    """Open a login session (the API's own) and answer the browser's session cookie for it."""
    async with unit_of_work(request) as session:
        pair = await service.login(
            session,
            request.app.state.passwords,
            tokens_of(request),
            email=email,
            password=password,
            client=_client(request),
        )
    return web_session_token(tokens_of(request), pair.refresh_token)


def _signed_in(request: Request, cookie: str, target: str, notice: str) -> Response:
    response = redirect(target, notice)
    set_session_cookie(request, response, cookie)
    return response


@router.get("/register")
async def register_form(request: Request, session: SessionDep) -> Response:
    await current_principal(request, session)
    return render(request, "register.html", {"values": {}, "errors": {}})


@router.post("/register", dependencies=[Depends(rate_limit(Budget.AUTH, "register"))])
async def register(
    request: Request, email: Field = "", password: Field = "", full_name: Field = ""
) -> Response:
    values = {"email": email, "full_name": full_name}
    try:
        data = RegisterRequest(email=email, password=password, full_name=full_name)
    except ValidationError as error:
        return render(request, "register.html", {"values": values, "errors": field_errors(error)}, 422)
    try:
        async with unit_of_work(request) as session:
            await service.register(session, request.app.state.passwords, data)
        cookie = await _log_in(request, data.email, data.password)
    except DomainError as error:
        return render(request, "register.html", {"values": values, "errors": {"email": error.detail}}, 409)
    return _signed_in(request, cookie, "/", "welcome")


@router.get("/login")
async def login_form(
    request: Request, session: SessionDep, next_page: Annotated[str, Query(alias="next")] = "/"
) -> Response:
    await current_principal(request, session)
    return render(request, "login.html", {"values": {}, "next": safe_next(next_page), "error": None})


@router.post("/login", dependencies=[Depends(rate_limit(Budget.AUTH, "login"))])
async def login(
    request: Request,
    email: Field = "",
    password: Field = "",
    next_page: Annotated[str, Form(alias="next")] = "/",
) -> Response:
    context = {"values": {"email": email}, "next": safe_next(next_page)}
    try:
        credentials = LoginRequest(email=email, password=password)
    except ValidationError:
        return render(request, "login.html", {**context, "error": "Enter your email and password."}, 422)
    try:
        cookie = await _log_in(request, credentials.email, credentials.password)
    except DomainError as error:
        return render(request, "login.html", {**context, "error": error.detail}, error.status)
    return _signed_in(request, cookie, safe_next(next_page), "logged_in")


@router.post("/logout")
async def logout(request: Request) -> Response:
    """End the login session (not just the cookie): the session's API tokens stop working too."""
    async with unit_of_work(request) as session:
        principal = await current_principal(request, session)
        if principal is not None:
            await service.logout(session, tokens_of(request), principal, None)
    response = redirect("/", "logged_out")
    clear_session_cookie(request, response)
    return response


@router.get("/password/forgot")
async def forgot_form(request: Request, session: SessionDep) -> Response:
    await current_principal(request, session)
    return render(request, "forgot.html", {"error": None})


@router.post("/password/forgot", dependencies=[Depends(rate_limit(Budget.AUTH, "password_forgot"))])
async def forgot(request: Request, email: Field = "") -> Response:
    async with unit_of_work(request) as session:
        await service.request_password_reset(session, email.strip().lower())
    return redirect("/login", "reset_sent")


@router.get("/password/reset")
async def reset_form(
    request: Request, session: SessionDep, token: Annotated[str, Query(max_length=4096)] = ""
) -> Response:
    await current_principal(request, session)
    return render(request, "reset.html", {"token": token, "errors": {}})


@router.post("/password/reset", dependencies=[Depends(rate_limit(Budget.AUTH, "password_reset"))])
async def reset(request: Request, token: Field = "", new_password: Field = "") -> Response:
    try:
        data = PasswordResetRequest(token=token, new_password=new_password)
    except ValidationError as error:
        return render(request, "reset.html", {"token": token, "errors": field_errors(error)}, 422)
    try:
        async with unit_of_work(request) as session:
            await service.reset_password(session, request.app.state.passwords, data.token, data.new_password)
    except DomainError as error:
        return render(
            request, "reset.html", {"token": token, "errors": {"token": error.detail}}, error.status
        )
    response = redirect("/login", "password_reset")
    clear_session_cookie(request, response)
    return response


@router.get("/account")
async def profile_form(request: Request, session: SessionDep) -> Response:
    principal = await require_user(request, session)
    values = {"full_name": principal.user.full_name, "email": principal.user.email}
    return render(request, "account.html", {"values": values, "errors": {}})


@router.post("/account")
async def profile(
    request: Request,
    full_name: Field = "",
    email: Field = "",
    password: Field = "",
    current_password: Field = "",
) -> Response:
    values = {"full_name": full_name, "email": email}
    try:
        async with unit_of_work(request) as session:
            principal = await require_user(request, session)
            changes = {"full_name": full_name}
            if email.strip().lower() != principal.user.email:
                changes["email"] = email
            if password:
                changes["password"] = password
            if current_password:
                changes["current_password"] = current_password
            await service.update_profile(
                session, request.app.state.passwords, principal, UserUpdate.model_validate(changes)
            )
    except ValidationError as error:
        return render(request, "account.html", {"values": values, "errors": field_errors(error)}, 422)
    except DomainError as error:
        field = "current_password" if error.code in {"invalid_credentials", "validation_error"} else "email"
        return render(
            request, "account.html", {"values": values, "errors": {field: error.detail}}, error.status
        )
    return redirect("/account", "profile_saved")

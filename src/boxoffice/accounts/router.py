"""HTTP routes for authentication and the caller's own account."""

from typing import Any

from fastapi import APIRouter, Depends, Request, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from boxoffice.accounts import service
from boxoffice.accounts.auth import CurrentPrincipal, CurrentUser
from boxoffice.accounts.schemas import (
    Accepted,
    LoginRequest,
    LogoutRequest,
    PasswordForgotRequest,
    PasswordResetRequest,
    RefreshRequest,
    RegisterRequest,
    TokenPair,
    UserRead,
    UserUpdate,
)
from boxoffice.core.deps import ClientDep, PasswordsDep, SessionDep, TokensDep
from boxoffice.core.errors import (
    AccountDisabled,
    EmailTaken,
    InvalidCredentials,
    ResetTokenInvalid,
    TokenInvalid,
    TokenReused,
    WrongCurrentPassword,
    problems,
)
from boxoffice.core.json_body import ApiRoute, parse_json_body
from boxoffice.core.ratelimit import Budget, rate_limit
from boxoffice.models import User

auth_router = APIRouter(route_class=ApiRoute, prefix="/auth", tags=["auth"])
users_router = APIRouter(route_class=ApiRoute, prefix="/users", tags=["users"])

_FORM_TYPES = {"application/x-www-form-urlencoded", "multipart/form-data"}
# Fields an OAuth2 password-grant client (such as the "Authorize" dialog of /docs) may send besides
# username and password; accepted and ignored.
_OAUTH2_EXTRAS = {"grant_type", "scope", "client_id", "client_secret"}

_LOGIN_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": LoginRequest.model_json_schema()},
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "required": ["username", "password"],
                    "properties": {
                        "username": {"type": "string", "description": "Your email"},
                        "password": {"type": "string", "format": "password"},
                        "grant_type": {"type": "string", "enum": ["password"]},
                    },
                }
            },
        },
    }
}


@auth_router.post(
    "/register",
    dependencies=[Depends(rate_limit(Budget.AUTH, "register"))],
    status_code=status.HTTP_201_CREATED,
    response_model=UserRead,
    responses=problems(EmailTaken, 422),
)
async def register(data: RegisterRequest, session: SessionDep, passwords: PasswordsDep) -> User:
    """Create an attendee or organizer account."""
    return await service.register(session, passwords, data)


async def _login_credentials(request: Request) -> LoginRequest:
    """Read the credentials from a JSON body or an OAuth2 password form."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    raw: Any
    if media_type in _FORM_TYPES:
        form = await request.form()
        unknown = set(form.keys()) - {"username", "password"} - _OAUTH2_EXTRAS
        if form.get("grant_type", "password") != "password":
            raise RequestValidationError(
                [
                    {
                        "loc": ("body", "grant_type"),
                        "msg": "grant_type must be 'password'",
                        "type": "literal_error",
                    }
                ]
            )
        raw = {"email": form.get("username"), "password": form.get("password")}
        raw.update({key: form.get(key) for key in unknown})
    else:
        raw = await parse_json_body(request)
    try:
        return LoginRequest.model_validate(raw)
    except ValidationError as error:
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in error.errors()]) from error


@auth_router.post(
    "/login",
    dependencies=[Depends(rate_limit(Budget.AUTH, "login"))],
    response_model=TokenPair,
    responses=problems(InvalidCredentials, AccountDisabled, 422),
    openapi_extra=_LOGIN_BODY,
)
async def login(
    request: Request,
    session: SessionDep,
    passwords: PasswordsDep,
    tokens: TokensDep,
    client: ClientDep,
) -> TokenPair:
    """Log in with email and password (JSON, or the OAuth2 password form with `username`)."""
    credentials = await _login_credentials(request)
    return await service.login(
        session,
        passwords,
        tokens,
        email=credentials.email,
        password=credentials.password,
        client=client,
    )


@auth_router.post("/refresh", response_model=TokenPair, responses=problems(TokenInvalid, TokenReused, 422))
async def refresh(data: RefreshRequest, session: SessionDep, tokens: TokensDep) -> TokenPair:
    """Trade a refresh token for a new token pair; the presented refresh token is spent."""
    return await service.refresh(session, tokens, data.refresh_token)


@auth_router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, responses=problems(401, 422))
async def logout(
    principal: CurrentPrincipal,
    session: SessionDep,
    tokens: TokensDep,
    data: LogoutRequest | None = None,
) -> Response:
    """End this session: its access token stops working at once and its refresh token is spent."""
    await service.logout(session, tokens, principal, data.refresh_token if data else None)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@auth_router.post(
    "/password/forgot",
    dependencies=[Depends(rate_limit(Budget.AUTH, "password_forgot"))],
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Accepted,
    responses=problems(422, 429),
)
async def forgot_password(data: PasswordForgotRequest, session: SessionDep) -> Accepted:
    """Email a password reset token. Always 202, so nobody learns which emails have accounts."""
    await service.request_password_reset(session, data.email)
    return Accepted(detail="If an account exists for this email, a reset token is on its way.")


@auth_router.post(
    "/password/reset",
    dependencies=[Depends(rate_limit(Budget.AUTH, "password_reset"))],
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems(ResetTokenInvalid, 422),
)
async def reset_password(
    data: PasswordResetRequest, session: SessionDep, passwords: PasswordsDep
) -> Response:
    """Set a new password with the emailed token (single use, one hour); every session ends."""
    await service.reset_password(session, passwords, data.token, data.new_password)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@users_router.get("/me", response_model=UserRead, responses=problems(401))
async def read_me(user: CurrentUser) -> User:
    """The caller's own account."""
    return user


@users_router.patch("/me", response_model=UserRead, responses=problems(WrongCurrentPassword, EmailTaken, 422))
async def update_me(
    data: UserUpdate, principal: CurrentPrincipal, session: SessionDep, passwords: PasswordsDep
) -> User:
    """Change name, email or password; email and password changes need `current_password`."""
    return await service.update_profile(session, passwords, principal, data)

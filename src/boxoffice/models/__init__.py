"""Every table, one module each; importing this package registers them all with the metadata."""

from boxoffice.models.auth_session import AuthSession
from boxoffice.models.user import Role, User

__all__ = ["AuthSession", "Role", "User"]

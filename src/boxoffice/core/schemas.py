"""The two bases every schema derives from: strict inputs, attribute-reading outputs."""

from pydantic import BaseModel, ConfigDict


class InputModel(BaseModel):
    """A request body: unknown fields are rejected (no mass assignment), strings are trimmed."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class OutputModel(BaseModel):
    """A response body, built from ORM objects or dicts."""

    model_config = ConfigDict(from_attributes=True)

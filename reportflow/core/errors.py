"""Errors a user can act on. Messages are Vietnamese and say what was wrong and what to do."""


class UserError(Exception):
    """Bad input or a forbidden action: nothing was written."""


class NotFound(UserError):
    pass


class Forbidden(UserError):
    pass


class Conflict(UserError):
    pass

"""The simulated customer: a policy answering the agent from the case's `arguments`."""

from __future__ import annotations

from covey.evals import UserView
from examples.shop.environment import Shop

__all__ = ["customer"]


def customer(view: UserView) -> str | None:
    """The customer's next message, or None once nothing more is asked of them.

    Arguments: `email`, `zip`, and `confirm` (say yes when asked to confirm; default true).
    Asked for an order number, the customer looks it up in their own inbox: an action on
    the shop's database from the user's side.
    """
    asked = view.reply.lower()
    email, zip_code = view.arguments["email"], view.arguments["zip"]
    if "email" in asked and "zip" in asked:
        return f"My email is {email} and my zip code is {zip_code}."
    if "email" in asked:
        return f"It is {email}."
    if "zip" in asked:
        return f"My zip code is {zip_code}."
    if "order number" in asked and isinstance(view.environment, Shop):
        mails = view.environment.read_inbox(email)
        return f"My inbox says: {mails[-1]}" if mails else "I cannot find it."
    if "confirm" in asked:
        return "Yes, please go ahead." if view.arguments.get("confirm", True) else "No, leave it."
    return None

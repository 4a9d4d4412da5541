"""Referral links: groups that grant them give their members a code to share."""

import secrets

from models.groups.group import group_of
from models.users.user import User


def ensure_referral_code(user):
    fresh = User.get_by_id(user.id)
    if fresh.referral_code:
        return fresh.referral_code
    code = secrets.token_urlsafe(6)
    User.update(referral_code=code).where(User.id == user.id).execute()
    return code


def referrer_for(code):
    """The affiliate behind a referral code, if their group still grants referral links."""
    if not code or len(code) > 32:
        return None
    referrer = User.get_or_none(User.referral_code == code)
    if referrer is None or not referrer.is_active or not group_of(referrer).grants_referral_link:
        return None
    return referrer

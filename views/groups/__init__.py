"""Customer groups as customers see them: membership, applications and referral links."""

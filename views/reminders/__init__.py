"""Payment reminders as customers see them: the opt-out page."""

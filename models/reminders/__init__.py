"""Payment reminders: the owner's settings, the windows they go out in, the plan that decides who
gets one (and why every other unpaid order does not), the batches that send each exactly
once, and what a reminder says; the control group and wording B that show whether they work.

Called from outside: batches.py (`run_due` on the jobs tick, `recent_batches`, `results`),
plan.py (`plan`, `describe_reason`), settings.py (`load_reminder_settings`,
`update_reminder_settings`), messages.py (templates, previews, the opt-out link),
windows.py (`next_window`), experiment.py (`arm_for`, `variant_for`), statistics.py
(`difference`).
"""

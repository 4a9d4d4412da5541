"""My Account → Membership: the customer's group, its perks, applications and referrals."""

from flask import Blueprint
from flask import flash
from flask import request
from flask import session
from flask import url_for
from flask_babel import gettext
from flask_login import current_user
from flask_login import login_required

from forms.groups import GroupApplicationForm
from models.groups.applications import applications_of
from models.groups.applications import apply_for
from models.groups.applications import groups_open_to
from models.groups.applications import withdraw
from models.groups.group import group_of
from models.groups.group import GroupError
from models.groups.referrals import ensure_referral_code
from models.groups.referrals import referrer_for
from models.orders.affiliate_rewards import referrals_with_rewards
from views.rendering import redirect_after_post
from views.rendering import render
from views.rendering import safe_next

bp = Blueprint("membership", __name__)

REFERRAL_KEY = "referral_code"


@bp.get("/account/membership")
@login_required
def overview(form=None, status=200):
    group = group_of(current_user)
    referral_url = None
    if group.grants_referral_link:
        referral_url = url_for("membership.referral", code=ensure_referral_code(current_user), _external=True)
    return render(
        "groups/membership/overview.html",
        group=group,
        open_groups=groups_open_to(current_user),
        applications=applications_of(current_user),
        referral_url=referral_url,
        # Still listed if the group stops granting links: rewards paid stay visible.
        referrals=referrals_with_rewards(current_user),
        form=form or GroupApplicationForm(),
        status=status,
    )


@bp.post("/account/membership/apply")
@login_required
def apply():
    form = GroupApplicationForm()
    if not form.validate_on_submit():
        return overview(form=form, status=422)
    try:
        application = apply_for(current_user, form.group_id.data, form.note.data or "")
    except GroupError as error:
        form.group_id.errors.append(str(error))
        return overview(form=form, status=422)
    flash(
        gettext(
            "Thank you! Your application for %(group)s is with the shop; we'll email you the decision.",
            group=application.group.name,
        ),
        "success",
    )
    # The credit page's groups apply from there and come back to it.
    return redirect_after_post(safe_next(request.form.get("next"), url_for("membership.overview")))


@bp.post("/account/membership/applications/<id:application_id>/withdraw")
@login_required
def withdraw_application(application_id):
    try:
        withdraw(current_user, application_id)
        flash(gettext("Your application is withdrawn."), "success")
    except GroupError as error:
        flash(str(error), "error")
    return redirect_after_post(url_for("membership.overview"))


@bp.get("/r/<code>")
def referral(code):
    """An affiliate's referral link: remember the code (not personal data) and invite to register."""
    referrer = referrer_for(code)
    if referrer is not None and not current_user.is_authenticated:
        session[REFERRAL_KEY] = code
    return render("groups/membership/referral.html", referrer=referrer, status=200 if referrer else 404)

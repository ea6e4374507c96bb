"""The order pages, a customer's orders, and the API keys in the settings (thin views)."""

from urllib.parse import urlencode

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ..auth.rights import Right, may, requires
from ..customers.models import Customer
from ..domain import DomainError
from ..errors import apply_to_form
from ..extensions import db
from ..formats import format_money
from .forms import PAYMENT_LABELS, STATUS_LABELS, ApiKeyForm, OrderFilterForm, StatusForm
from .models import ApiKey, OrderStatus
from .services import (
    change_status,
    create_api_key,
    customer_orders,
    get_order,
    list_orders,
    order_query,
    revoke_api_key,
)

bp = Blueprint("orders", __name__, url_prefix="/orders")
keys_bp = Blueprint("api_keys", __name__, url_prefix="/settings/api-keys")
# The customer's orders at /customers/<id>/orders, beside the register's own blueprint.
customer_bp = Blueprint("customer_orders", __name__, url_prefix="/customers")
# How many of a customer's orders the customer page shows; their order list has them all.
CUSTOMER_PAGE_ORDERS = 20


@bp.app_context_processor
def order_labels():
    return {"order_status_labels": STATUS_LABELS, "payment_labels": PAYMENT_LABELS}


@bp.route("/")
def index():
    form = OrderFilterForm(request.args)
    form.validate()
    args = {key: value for key, value in request.args.items() if value}
    if form.date_from.errors:
        args.pop("date_from", None)
    if form.date_to.errors:
        args.pop("date_to", None)
    query = order_query(args)
    orders, following = list_orders(query)
    args.pop("after", None)
    return render_template("orders/list.html", form=form, orders=orders, following=following,
                           args=args, first_page=not query.after, query_string=urlencode(args))


@bp.route("/<number>", methods=["GET", "POST"])
def detail(number):
    order = get_order(number) or abort(404)
    form = StatusForm(status=order.status.value)
    if request.method == "POST":
        if not may(current_user, Right.CHANGE_ORDERS):
            abort(403)
        if form.validate_on_submit():
            try:
                change_status(order, OrderStatus(form.status.data), current_user)
            except DomainError as error:
                db.session.rollback()
                apply_to_form(error, form)
            else:
                db.session.commit()
                flash(_("The status of order %(number)s is now “%(status)s”.", number=order.number,
                        status=STATUS_LABELS[order.status]), "success")
                return redirect(url_for("orders.detail", number=order.number))
    return render_template("orders/detail.html", order=order, form=form)


@customer_bp.app_template_global("customer_orders")
def latest_customer_orders(customer_id: int):
    """For the panel on the customer page: the latest orders, their count and total spent."""
    return customer_orders(customer_id, limit=CUSTOMER_PAGE_ORDERS)


@customer_bp.route("/<int:customer_id>/orders")
def customer_page(customer_id):
    customer = db.session.get(Customer, customer_id) or abort(404)
    orders, count, spent = customer_orders(customer.id)
    return render_template("orders/customer_orders.html", customer=customer, orders=orders,
                           order_count=count, total_spent=spent)


@keys_bp.route("/", methods=["GET", "POST"])
@requires(Right.ADMINISTER)
def index_keys():
    form = ApiKeyForm()
    secret = None
    if form.validate_on_submit():
        try:
            api_key, secret = create_api_key(form.name.data, current_user)
        except DomainError as error:
            db.session.rollback()
            apply_to_form(error, form)
        else:
            db.session.commit()
            form = ApiKeyForm(formdata=None)
    keys = db.session.scalars(select(ApiKey).order_by(ApiKey.revoked_at.is_not(None),
                                                      ApiKey.id.desc()))
    return render_template("orders/api_keys.html", form=form, keys=list(keys), secret=secret)


@keys_bp.post("/<int:key_id>/revoke")
@requires(Right.ADMINISTER)
def revoke(key_id):
    api_key = db.session.get(ApiKey, key_id) or abort(404)
    try:
        revoke_api_key(api_key, current_user)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "warning")
    else:
        db.session.commit()
        flash(_("The key “%(name)s” has been revoked.", name=api_key.name), "success")
    return redirect(url_for("api_keys.index_keys"))


@bp.app_template_filter("money")
def money(amount, currency: str) -> str:
    """An amount with its currency, formatted for the interface language."""
    return format_money(amount, currency)

"""flask orders ...: demo orders (the lead hooks generate_orders into demo-data --orders)."""

import random

import click
from flask.cli import AppGroup

from ..extensions import db
from .demo import generate_orders

orders_cli = AppGroup("orders", help="Orders.")


@orders_cli.command("demo-data")
@click.argument("count", type=click.IntRange(min=1))
@click.option("--seed", type=int, default=None, help="Repeatable data for the same seed.")
def demo_data(count: int, seed: int | None):
    """Add COUNT realistic demo orders for the existing customers and some guests."""
    generate_orders(count, random.Random(seed))
    db.session.commit()
    click.echo(f"Added {count} demo orders.")

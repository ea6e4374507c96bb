"""flask orders ...: demo orders and exports of orders."""

import random
from pathlib import Path

import click
from flask.cli import AppGroup

from ..exports.cli import export_options, export_to_file
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


@orders_cli.command("export")
@export_options("The orders list's search and filters, as in its address "
                "(status=shipped&date_from=2026-01-01); all orders when left out.")
def export_command(fmt: str, output: Path, query: str, language: str | None):
    """Export orders, one row per order line."""
    count = export_to_file("orders", fmt, output, query, language)
    click.echo(f"{count:,} order lines written to {output}.")

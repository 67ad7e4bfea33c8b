"""`migrate new`'s summary names what each operation makes (an index or a constraint by its own
name), not the table again: `CreateIndex account; CreateIndex account` said nothing (newcomer F15)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.operations import ops

from todoctl.core.migrate.authoring import _describe


def test_each_operation_is_named_by_what_it_makes():
    assert _describe(ops.CreateIndexOp("ix_account_email", "account", ["email"])) == "CreateIndex ix_account_email"
    assert _describe(ops.AddColumnOp("appointment", sa.Column("room_id", sa.Integer))) == "AddColumn appointment.room_id"
    fk = ops.CreateForeignKeyOp("appointment_room_id_fkey", "appointment", "room", ["room_id"], ["id"])
    assert _describe(fk) == "CreateForeignKey appointment_room_id_fkey (appointment.room_id -> room)"
    assert _describe(ops.CreateTableOp("room", [])) == "CreateTable room"


def test_a_table_s_operations_name_the_table_once():
    batch = ops.ModifyTableOps(
        "account", [ops.CreateIndexOp("ix_account_email", "account", ["email"]), ops.DropConstraintOp("uq_x", "account")]
    )
    assert _describe(batch) == "account: CreateIndex ix_account_email; DropConstraint uq_x"

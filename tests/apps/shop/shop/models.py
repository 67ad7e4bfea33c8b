"""shop's models: every table in schema ``shop``, two named by reserved words, one native enum there.

Its own MetaData (as a library-style app does), unlike shelf, which uses SQLModel's global one: the
tests import both apps in one process."""

import enum
from datetime import datetime
from typing import Optional

from sqlalchemy import CheckConstraint, Column, Enum, MetaData
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

SCHEMA = "shop"

metadata = MetaData()


class ShopModel(SQLModel, registry=registry(metadata=metadata)):
    pass


class Status(str, enum.Enum):
    new = "new"
    paid = "paid"
    shipped = "shipped"


class User(ShopModel, table=True):
    __tablename__ = "user"
    __table_args__ = {"schema": SCHEMA}
    id: Optional[int] = Field(default=None, primary_key=True)
    email: str = Field(max_length=200, unique=True)


class Product(ShopModel, table=True):
    __tablename__ = "product"
    __table_args__ = {"schema": SCHEMA}
    sku: str = Field(primary_key=True, max_length=20)
    price: float


class Order(ShopModel, table=True):
    __tablename__ = "order"
    __table_args__ = (CheckConstraint("qty > 0", name="ck_order_qty"), {"schema": SCHEMA})
    id: Optional[int] = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="shop.user.id", index=True)
    status: Status = Field(sa_column=Column(Enum(Status, name="order_status", schema=SCHEMA), nullable=False))
    qty: int
    created: datetime


class OrderLine(ShopModel, table=True):
    __tablename__ = "order_line"
    __table_args__ = {"schema": SCHEMA}
    order_id: int = Field(foreign_key="shop.order.id", primary_key=True)
    sku: str = Field(foreign_key="shop.product.sku", primary_key=True, max_length=20)
    quantity: int

"""A small shop on SQLite: customers, orders, products, and the policy rules of its tools.

`make_shop(setup)` makes a fresh shop per trial in the trial's own directory. The agent gets
13 tools with explicit JSON Schemas; writes need the customer's identity verified first and
follow the shop's rules (only pending orders change, only delivered ones are returned or
exchanged, within a category, to the customer's own payment methods). The customer (the
simulated user) can read their inbox, a user-side action on the same database.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from covey.evals import TrialSetup
from covey.tools import SchemaTool, schema_tool

__all__ = ["Shop", "make_shop"]

SEED = """
CREATE TABLE customers (id TEXT PRIMARY KEY, name TEXT, email TEXT UNIQUE, zip TEXT);
CREATE TABLE payments (id TEXT PRIMARY KEY, customer TEXT, kind TEXT, balance REAL);
CREATE TABLE products (id TEXT PRIMARY KEY, name TEXT, category TEXT, price REAL, stock INT);
CREATE TABLE orders (id TEXT PRIMARY KEY, customer TEXT, status TEXT, address TEXT,
                     payment TEXT);
CREATE TABLE items (id TEXT PRIMARY KEY, order_id TEXT, product TEXT, price REAL,
                    status TEXT DEFAULT 'ordered');
CREATE TABLE refunds (id TEXT PRIMARY KEY, order_id TEXT, payment TEXT, amount REAL);
CREATE TABLE transfers (summary TEXT);
INSERT INTO customers VALUES ('C1', 'Ann Lee', 'ann@example.com', '94110'),
  ('C2', 'Bo Chen', 'bo@example.com', '10001'), ('C3', 'Cy Diaz', 'cy@example.com', '60614');
INSERT INTO payments VALUES ('card_ann', 'C1', 'credit_card', NULL),
  ('gift_ann', 'C1', 'gift_card', 20.0), ('card_bo', 'C2', 'credit_card', NULL),
  ('paypal_cy', 'C3', 'paypal', NULL), ('gift_cy', 'C3', 'gift_card', 5.0);
INSERT INTO products VALUES ('P1', 'Mug', 'kitchen', 12.0, 10),
  ('P2', 'Teapot', 'kitchen', 30.0, 4), ('P3', 'Kettle', 'kitchen', 45.0, 0),
  ('P4', 'Lamp', 'home', 25.0, 6), ('P5', 'Rug', 'home', 80.0, 2),
  ('P6', 'Blanket', 'home', 40.0, 3);
INSERT INTO orders VALUES ('O1001', 'C1', 'pending', '1 Main St, San Francisco', 'card_ann'),
  ('O1002', 'C1', 'delivered', '1 Main St, San Francisco', 'gift_ann'),
  ('O1003', 'C2', 'pending', '5 Park Ave, New York', 'card_bo'),
  ('O1004', 'C2', 'delivered', '5 Park Ave, New York', 'card_bo'),
  ('O1005', 'C3', 'shipped', '9 Lake Rd, Chicago', 'paypal_cy'),
  ('O1006', 'C3', 'delivered', '9 Lake Rd, Chicago', 'paypal_cy'),
  ('O1007', 'C3', 'cancelled', '9 Lake Rd, Chicago', 'paypal_cy');
INSERT INTO items (id, order_id, product, price) VALUES ('I1', 'O1001', 'P1', 12.0),
  ('I2', 'O1001', 'P2', 30.0), ('I3', 'O1002', 'P4', 25.0), ('I4', 'O1002', 'P6', 40.0),
  ('I5', 'O1003', 'P3', 45.0), ('I6', 'O1004', 'P5', 80.0), ('I7', 'O1004', 'P1', 12.0),
  ('I8', 'O1005', 'P2', 30.0), ('I9', 'O1006', 'P3', 45.0), ('I10', 'O1006', 'P4', 25.0);
"""

REASONS = ["no_longer_needed", "ordered_by_mistake"]


def _object(properties: dict[str, Any], *required: str) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": list(required),
        "additionalProperties": False,
    }


STRING = {"type": "string"}


class Shop:
    """One trial's shop: its database, the agent's tools and the customer's inbox."""

    def __init__(self, setup: TrialSetup) -> None:
        """A fresh shop database in the trial's directory."""
        self.db = sqlite3.connect(setup.directory / "shop.db", check_same_thread=False)
        self.db.executescript(SEED)
        self.verified: set[str] = set()
        self.refund_prefix = f"R{setup.seed % 1000:03d}"
        self.initial = self.state()

    def _one(self, sql: str, *args: Any) -> tuple[Any, ...] | None:
        return self.db.execute(sql, args).fetchone()

    def _order(self, order_id: str) -> tuple[str, str, str, str]:
        row = self._one(
            "SELECT customer, status, address, payment FROM orders WHERE id=?", order_id
        )
        if row is None:
            raise ValueError(f"No order {order_id}.")
        if row[0] not in self.verified:
            raise PermissionError("Verify the customer's identity (verify_identity) first.")
        return row[0], row[1], row[2], row[3]

    def find_customer_by_email(self, email: str) -> str:
        """Find a customer's id by their email address."""
        row = self._one("SELECT id FROM customers WHERE email=?", email.strip().lower())
        return f"customer_id: {row[0]}" if row else f"No customer with email {email}."

    def verify_identity(self, customer_id: str, zip: str) -> str:
        """Verify a customer by their zip code; required before reading or changing data."""
        row = self._one("SELECT zip FROM customers WHERE id=?", customer_id)
        if row is None or row[0] != zip.strip():
            return "Verification failed: the zip code does not match."
        self.verified.add(customer_id)
        return f"Customer {customer_id} verified."

    def get_customer(self, customer_id: str) -> dict[str, Any]:
        """A verified customer's name and payment methods."""
        if customer_id not in self.verified:
            raise PermissionError("Verify the customer's identity (verify_identity) first.")
        name = self._one("SELECT name FROM customers WHERE id=?", customer_id)
        methods = self.db.execute(
            "SELECT id, kind, balance FROM payments WHERE customer=?", (customer_id,)
        ).fetchall()
        return {"name": name[0] if name else None, "payment_methods": methods}

    def list_orders(self, customer_id: str) -> list[list[str]]:
        """A verified customer's orders: id and status."""
        if customer_id not in self.verified:
            raise PermissionError("Verify the customer's identity (verify_identity) first.")
        rows = self.db.execute(
            "SELECT id, status FROM orders WHERE customer=? ORDER BY id", (customer_id,)
        )
        return [list(r) for r in rows.fetchall()]

    def get_order(self, order_id: str) -> dict[str, Any]:
        """An order's status, address, payment method and items."""
        _, status, address, payment = self._order(order_id)
        items = self.db.execute(
            "SELECT i.id, p.name, i.price, i.status FROM items i JOIN products p "
            "ON p.id = i.product WHERE order_id=? ORDER BY i.rowid",
            (order_id,),
        ).fetchall()
        return {"status": status, "address": address, "payment": payment, "items": items}

    def get_product(self, product_id: str) -> dict[str, Any]:
        """A product's name, category, price and stock."""
        row = self._one("SELECT name, category, price, stock FROM products WHERE id=?", product_id)
        if row is None:
            raise ValueError(f"No product {product_id}.")
        return dict(zip(["name", "category", "price", "stock"], row, strict=True))

    def search_products(self, query: str) -> list[list[Any]]:
        """Products whose name or category contains the query."""
        like = f"%{query.strip().lower()}%"
        rows = self.db.execute(
            "SELECT id, name, price, stock FROM products WHERE lower(name) LIKE ? "
            "OR category LIKE ? ORDER BY id",
            (like, like),
        )
        return [list(r) for r in rows.fetchall()]

    def _refund(self, order_id: str, payment: str, amount: float) -> str:
        number = self.db.execute("SELECT count(*) FROM refunds").fetchone()[0] + 1
        refund = f"{self.refund_prefix}-{number}"
        self.db.execute(
            "INSERT INTO refunds VALUES (?, ?, ?, ?)", (refund, order_id, payment, amount)
        )
        self.db.execute(
            "UPDATE payments SET balance = balance + ? WHERE id=? AND kind='gift_card'",
            (amount, payment),
        )
        return refund

    def cancel_order(self, order_id: str, reason: str) -> str:
        """Cancel a pending order; the total goes back to its payment method."""
        _, status, _, payment = self._order(order_id)
        if status != "pending":
            raise ValueError(f"Order {order_id} is {status}; only pending orders can be cancelled.")
        total = self._one("SELECT sum(price) FROM items WHERE order_id=?", order_id)
        amount = float(total[0]) if total else 0.0
        with self.db:
            self.db.execute("UPDATE orders SET status='cancelled' WHERE id=?", (order_id,))
            refund = self._refund(order_id, payment, amount)
        return (
            f"Order {order_id} cancelled ({reason}); refund {refund} of {amount:.2f} to {payment}."
        )

    def change_address(self, order_id: str, address: str) -> str:
        """Change the shipping address of a pending order."""
        _, status, _, _ = self._order(order_id)
        if status != "pending":
            raise ValueError(f"Order {order_id} is {status}; only pending orders can change.")
        with self.db:
            self.db.execute("UPDATE orders SET address=? WHERE id=?", (address.strip(), order_id))
        return f"Order {order_id} will ship to {address.strip()}."

    def change_payment(self, order_id: str, payment_method_id: str) -> str:
        """Pay a pending order with another of the customer's payment methods."""
        customer, status, _, _ = self._order(order_id)
        if status != "pending":
            raise ValueError(f"Order {order_id} is {status}; only pending orders can change.")
        method = self._one(
            "SELECT customer, kind, balance FROM payments WHERE id=?", payment_method_id
        )
        if method is None or method[0] != customer:
            raise ValueError(f"{payment_method_id} is not a payment method of {customer}.")
        total = float(self._one("SELECT sum(price) FROM items WHERE order_id=?", order_id)[0])  # type: ignore[index]
        if method[1] == "gift_card" and method[2] < total:
            raise ValueError(f"Gift card balance {method[2]:.2f} is below the total {total:.2f}.")
        with self.db:
            self.db.execute("UPDATE orders SET payment=? WHERE id=?", (payment_method_id, order_id))
        return f"Order {order_id} is now paid with {payment_method_id}."

    def _delivered_item(self, order_id: str, item_id: str) -> tuple[str, float]:
        _, status, _, _ = self._order(order_id)
        if status != "delivered":
            raise ValueError(f"Order {order_id} is {status}; only delivered orders qualify.")
        row = self._one(
            "SELECT product, price, status FROM items WHERE id=? AND order_id=?", item_id, order_id
        )
        if row is None:
            raise ValueError(f"Order {order_id} has no item {item_id}.")
        if row[2] != "ordered":
            raise ValueError(f"Item {item_id} was already {row[2]}.")
        return row[0], float(row[1])

    def return_items(self, order_id: str, item_ids: list[str], refund_method_id: str) -> str:
        """Return delivered items; refund to the order's payment method or a gift card."""
        customer, _, _, payment = self._order(order_id)
        method = self._one("SELECT customer, kind FROM payments WHERE id=?", refund_method_id)
        if refund_method_id != payment and (
            method is None or method[1] != "gift_card" or method[0] != customer
        ):
            raise ValueError(
                "Refunds go to the original payment method or the customer's gift card."
            )
        amount = sum(self._delivered_item(order_id, item)[1] for item in item_ids)
        with self.db:
            for item in item_ids:
                self.db.execute("UPDATE items SET status='returned' WHERE id=?", (item,))
            refund = self._refund(order_id, refund_method_id, amount)
        returned = ", ".join(item_ids)
        return f"Returned {returned}; refund {refund} of {amount:.2f} to {refund_method_id}."

    def exchange_item(self, order_id: str, item_id: str, new_product_id: str) -> str:
        """Exchange a delivered item for an in-stock product of the same category."""
        product, _ = self._delivered_item(order_id, item_id)
        old = self.get_product(product)
        new = self.get_product(new_product_id)
        if new["category"] != old["category"]:
            raise ValueError(f"{new['name']} is not in the {old['category']} category.")
        if new["stock"] < 1:
            raise ValueError(f"{new['name']} is out of stock.")
        with self.db:
            self.db.execute("UPDATE items SET status='exchanged' WHERE id=?", (item_id,))
            self.db.execute("UPDATE products SET stock = stock - 1 WHERE id=?", (new_product_id,))
        difference = new["price"] - old["price"]
        return f"Item {item_id} exchanged for {new['name']}; price difference {difference:.2f}."

    def transfer_to_human(self, summary: str) -> str:
        """Hand the conversation to a human agent, with a summary of the request."""
        with self.db:
            self.db.execute("INSERT INTO transfers VALUES (?)", (summary,))
        return "Transferred: a human agent will take over."

    def read_inbox(self, email: str) -> list[str]:
        """The customer's own emails: order confirmations (a user-side action)."""
        rows = self.db.execute(
            "SELECT o.id FROM orders o JOIN customers c ON c.id = o.customer "
            "WHERE c.email=? ORDER BY o.id",
            (email,),
        )
        return [f"Your order {row[0]} is confirmed." for row in rows.fetchall()]

    def tools(self) -> list[SchemaTool]:
        """The agent's 13 tools, each with its JSON Schema."""
        order, items = {"order_id": STRING}, {"type": "array", "items": STRING, "minItems": 1}
        specs: list[tuple[Any, dict[str, Any]]] = [
            (self.find_customer_by_email, _object({"email": STRING}, "email")),
            (
                self.verify_identity,
                _object({"customer_id": STRING, "zip": STRING}, "customer_id", "zip"),
            ),
            (self.get_customer, _object({"customer_id": STRING}, "customer_id")),
            (self.list_orders, _object({"customer_id": STRING}, "customer_id")),
            (self.get_order, _object(order, "order_id")),
            (self.get_product, _object({"product_id": STRING}, "product_id")),
            (self.search_products, _object({"query": STRING}, "query")),
            (
                self.cancel_order,
                _object({**order, "reason": {"enum": REASONS}}, "order_id", "reason"),
            ),
            (self.change_address, _object({**order, "address": STRING}, "order_id", "address")),
            (
                self.change_payment,
                _object({**order, "payment_method_id": STRING}, "order_id", "payment_method_id"),
            ),
            (
                self.return_items,
                _object(
                    {**order, "item_ids": items, "refund_method_id": STRING},
                    "order_id",
                    "item_ids",
                    "refund_method_id",
                ),
            ),
            (
                self.exchange_item,
                _object(
                    {**order, "item_id": STRING, "new_product_id": STRING},
                    "order_id",
                    "item_id",
                    "new_product_id",
                ),
            ),
            (self.transfer_to_human, _object({"summary": STRING}, "summary")),
        ]
        return [schema_tool(function, schema) for function, schema in specs]

    def user_tools(self) -> list[SchemaTool]:
        """What a model-driven customer may do: read their inbox."""
        return [schema_tool(self.read_inbox, _object({"email": STRING}, "email"))]

    def state(self) -> dict[str, Any]:
        """Orders, items, refunds, gift card balances, stock and transfers, as data."""

        def table(sql: str) -> dict[str, Any]:
            cursor = self.db.execute(sql)
            names = [d[0] for d in cursor.description][1:]
            return {row[0]: dict(zip(names, row[1:], strict=True)) for row in cursor.fetchall()}

        return {
            "orders": table("SELECT id, status, address, payment FROM orders"),
            "items": table("SELECT id, status FROM items"),
            "refunds": [
                list(r) for r in self.db.execute("SELECT order_id, payment, amount FROM refunds")
            ],
            "balances": table("SELECT id, balance FROM payments WHERE kind='gift_card'"),
            "stock": table("SELECT id, stock FROM products"),
            "transfers": self.db.execute("SELECT count(*) FROM transfers").fetchone()[0],
        }

    async def aclose(self) -> None:
        """Close the database (its file goes with the trial's directory)."""
        self.db.close()


def make_shop(setup: TrialSetup) -> Shop:
    """The environment factory the suite names: a fresh shop for one trial."""
    return Shop(setup)

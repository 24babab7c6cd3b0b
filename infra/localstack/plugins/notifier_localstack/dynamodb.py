"""DynamoDB provider whose every operation falls through to moto.

The generated ``DynamodbApi`` raises ``NotImplementedError`` for each operation, and
``MotoFallbackDispatcher`` turns that into a call to LocalStack's bundled moto backend, which
runs in-process and offline (no Java, no DynamoDB Local download). Known gap: moto records the
TTL setting but never deletes expired items (AWS only does so lazily, too).
"""

import copy
import threading

from localstack.aws.api.dynamodb import DynamodbApi


class MotoDynamoDBProvider(DynamodbApi):
    pass


# moto's transact_write_items deep-copies a table for rollback once per *item* of the
# transaction (for the same table again and again), so a 100-item transaction on a table of a
# few thousand items takes seconds. Within one transaction the copies are identical (they are
# taken before anything is written), so one copy per table is the same snapshot.
_transaction = threading.local()


class _DeepCopyOncePerTransaction:
    """Stands in for the ``copy`` module inside moto's DynamoDB models."""

    def __getattr__(self, name):
        return getattr(copy, name)

    @staticmethod
    def deepcopy(obj, memo=None):
        copies = getattr(_transaction, "copies", None)
        if copies is None:
            return copy.deepcopy(obj, memo)
        if id(obj) not in copies:
            # The original is kept alongside so that its id cannot be reused meanwhile.
            copies[id(obj)] = (obj, copy.deepcopy(obj, memo))
        return copies[id(obj)][1]


def copy_each_table_once_per_transaction() -> None:
    from moto.dynamodb import models

    original = models.DynamoDBBackend.transact_write_items
    if getattr(original, "_copies_each_table_once", False):
        return

    def transact_write_items(self, transact_items):
        _transaction.copies = {}
        try:
            return original(self, transact_items)
        finally:
            _transaction.copies = None

    transact_write_items._copies_each_table_once = True
    models.DynamoDBBackend.transact_write_items = transact_write_items
    models.copy = _DeepCopyOncePerTransaction()

"""Plugin entry points. Kept import-light: plux imports this module while LocalStack starts."""

from localstack.services.lambda_.invocation.plugins import RuntimeExecutorPlugin
from localstack.services.plugins import aws_provider


@aws_provider(api="dynamodb", name="moto")
def dynamodb_moto():
    from localstack.services.moto import MotoFallbackDispatcher
    from localstack.services.plugins import Service

    from notifier_localstack.dynamodb import (
        MotoDynamoDBProvider,
        copy_each_table_once_per_transaction,
    )

    copy_each_table_once_per_transaction()
    return Service.for_provider(
        MotoDynamoDBProvider(), dispatch_table_factory=MotoFallbackDispatcher
    )


class ProcessRuntimeExecutorPlugin(RuntimeExecutorPlugin):
    name = "process"

    def load(self, *args, **kwargs):
        from notifier_localstack.process_executor import ProcessRuntimeExecutor

        return ProcessRuntimeExecutor

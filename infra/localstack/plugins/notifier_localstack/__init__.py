"""LocalStack plugins that let the notifier stack run on a machine without Docker.

* ``dynamodb:moto`` (``PROVIDER_OVERRIDE_DYNAMODB=moto``): DynamoDB served by the moto backend
  LocalStack already ships, instead of DynamoDB Local (Java + a jar download).
* ``process`` (``LAMBDA_RUNTIME_EXECUTOR=process``): Lambda functions with a ``bootstrap``
  (``provided.al2023``) run as child processes of LocalStack, talking to a local Runtime API.
"""

"""DynamoDB provider whose every operation falls through to moto.

The generated ``DynamodbApi`` raises ``NotImplementedError`` for each operation, and
``MotoFallbackDispatcher`` turns that into a call to LocalStack's bundled moto backend, which
runs in-process and offline (no Java, no DynamoDB Local download). Known gap: moto records the
TTL setting but never deletes expired items (AWS only does so lazily, too).
"""

from localstack.aws.api.dynamodb import DynamodbApi


class MotoDynamoDBProvider(DynamodbApi):
    pass

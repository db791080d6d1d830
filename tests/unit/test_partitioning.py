"""Our partitioner puts every record where aiokafka's (Kafka's) default one would."""

from __future__ import annotations

import random
import uuid

from aiokafka.partitioner import DefaultPartitioner
from aiokafka.partitioner import murmur2 as reference_murmur2

from schemas.partitioning import murmur2, partition_for


def test_murmur2_is_kafkas_for_every_length_and_random_bytes() -> None:
    rng = random.Random(7)
    keys = [bytes(rng.getrandbits(8) for _ in range(n)) for n in range(0, 70) for _ in range(20)]
    keys += [str(uuid.UUID(int=rng.getrandbits(128))).encode() for _ in range(500)]
    keys += [b"\xff" * 37, b"\x00" * 5]
    for key in keys:
        assert murmur2(key) == reference_murmur2(key), key


def test_the_partition_of_a_key_is_the_default_partitioners() -> None:
    rng = random.Random(11)
    reference = DefaultPartitioner()
    for count in (1, 3, 6, 12, 50):
        partitions = list(range(count))
        for _ in range(300):
            key = str(uuid.UUID(int=rng.getrandbits(128))).encode()
            assert partition_for(key, partitions, partitions) == reference(
                key, partitions, partitions
            )


def test_a_record_without_a_key_goes_to_an_available_partition() -> None:
    assert partition_for(None, [0, 1, 2], [2]) == 2
    assert partition_for(None, [0, 1, 2], []) in {0, 1, 2}

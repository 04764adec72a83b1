"""The ``pledge`` command line. :mod:`pledge.cli.main` is the root app; each command group is
a module that registers on it, and :mod:`pledge.cli._output` is what they share."""

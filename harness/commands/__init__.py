"""One module per subcommand of `cascadecheck`."""

// ninescope entry point; subcommands arrive with their issues.
print("ninescope: under construction")

echo placeholder; exit 1

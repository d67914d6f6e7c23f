# Empty dependencies file for vlstore.
# This may be replaced when dependencies are built.

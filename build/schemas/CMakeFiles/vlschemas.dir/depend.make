# Empty dependencies file for vlschemas.
# This may be replaced when dependencies are built.

# Empty dependencies file for vlagent.
# This may be replaced when dependencies are built.

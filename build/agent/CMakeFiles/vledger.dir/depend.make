# Empty dependencies file for vledger.
# This may be replaced when dependencies are built.

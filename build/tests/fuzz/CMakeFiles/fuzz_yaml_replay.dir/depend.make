# Empty dependencies file for fuzz_yaml_replay.
# This may be replaced when dependencies are built.

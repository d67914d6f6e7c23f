# Empty dependencies file for fuzz_sshsig_replay.
# This may be replaced when dependencies are built.

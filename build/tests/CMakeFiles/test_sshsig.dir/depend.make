# Empty dependencies file for test_sshsig.
# This may be replaced when dependencies are built.

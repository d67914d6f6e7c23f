file(REMOVE_RECURSE
  "libvlstore.a"
)

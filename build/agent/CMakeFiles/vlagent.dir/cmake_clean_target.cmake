file(REMOVE_RECURSE
  "libvlagent.a"
)

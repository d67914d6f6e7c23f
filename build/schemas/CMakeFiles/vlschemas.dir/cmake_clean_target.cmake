file(REMOVE_RECURSE
  "libvlschemas.a"
)

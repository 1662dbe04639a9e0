# images/: lazyshm's image format (protobuf-c), decoder CLI, fuzz harness.

"""Training sets built from videos (CSG-405 style): the on-disk clip format, builder, importers."""

//! Native JSON notification source.

// Package static serves a directory with correct validators: a strong
// entity tag made from each file's content, Last-Modified from its
// modification time, and conditional and range requests answered through
// package precond. It is notmod's demo origin, and a small origin server in
// its own right.
package static

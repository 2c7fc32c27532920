module github.com/notmod/notmod

go 1.26.8

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/dunglas/httpsfv v1.1.2 // indirect
	github.com/maypok86/otter/v2 v2.4.0 // indirect
)

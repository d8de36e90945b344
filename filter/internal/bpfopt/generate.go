package bpfopt

//go:generate go run gen_programs.go

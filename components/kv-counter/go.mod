module kv-counter

go 1.26

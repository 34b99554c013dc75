module kv-probe

go 1.26

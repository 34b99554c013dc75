module res

go 1.26

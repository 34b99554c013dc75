module kitchen

go 1.26

module hello-web

go 1.26

module github.com/maxrouter/maxrouter

go 1.26.8

module globalsvc.test/testbed/hostileproxy

go 1.26.0

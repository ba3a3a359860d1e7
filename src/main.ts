console.log('roxy')
